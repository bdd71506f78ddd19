"""The issue-15 reference: scikit-learn on a customer file read through a customer schema
(shared/schema/customer-schema.ts), preprocessed as the issue states, and optionally checked
against one of our models.

Preprocessing, in this order: numeric features with `transform: "log1p"` → np.log1p; categorical
features → one column per category (the schema's order; "learned": the sorted distinct values of
the accepted training rows, values equal but for case one category, spelled as first seen);
StandardScaler fitted on the training rows (population std; a constant column gets scale 1); each
column times its feature's weight. Column names as our artifact's:
`name=category` and `name`. Rows are read as the CSV contract reads them: headers and category
values trimmed and compared case-insensitively (aliases included); a row with an empty field
(missing "reject"), a value that is not a number, not whole (integer features), out of bounds,
negative under log1p, or an unknown category is dropped and counted (`rejected`); missing
{"fill": v} puts v in the empty field.

Prints one JSON line: rows, rejected rows, columns, and for each k the inertia of
KMeans(n_clusters=k, n_init=10, random_state=seed) (Lloyd, max_iter 300, one thread) on the training rows.

With --model (our artifact, shared/model/artifact.ts), also `model`:
  scaler     its columns equal ours; its mean and scale equal StandardScaler's to 1e-9 relative,
             its weights the schema's (max relative differences reported)
  inertia    the training rows' inertia under the model's centroids (computed here, and as the
             artifact records it), against sklearn's for the same k and seed
  labels     (--holdout and --labeled) the held-out rows, scaled by sklearn's StandardScaler, labeled
             by KMeans.predict — a KMeans whose cluster_centers_ are the model's centroids — centroid i
             standing for segment `segments[i].id`; compared by customer id with the `segment` column of
             --labeled (our labeled output). `mismatches` counts the rows whose segment differs, `missing`
             held-out ids absent from --labeled, `near_ties` rows whose two nearest centroids are within
             1e-9 relative (where either answer is right up to rounding).
Exit status 1 when a check fails.

Usage: /usr/bin/python3 test/bench/sklearn_schema.py --schema S.json --train train.csv [--holdout holdout.csv]
       [--ks 2-8] [--seed 0] [--model model.json] [--labeled labeled.csv]
"""
import argparse
import json
import math
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

RELATIVE_TOLERANCE = 1e-9


def normalise(text):
    """As normaliseHeader: trimmed, lower case."""
    return text.strip().lower()


def load_schema(path):
    """The schema JSON with customer-schema.ts's defaults filled in (it is validated by the TS side)."""
    with open(path) as f:
        schema = json.load(f)
    schema["id"].setdefault("aliases", [])
    for f in schema["features"]:
        f.setdefault("aliases", [])
        f.setdefault("missing", "reject")
        f.setdefault("weight", 1)
        if f["kind"] == "numeric":
            f.setdefault("integer", False)
        else:
            f.setdefault("valueAliases", {})
    return schema


def column_of(frame, header, aliases, path):
    """The frame's column for a header or one of its aliases, compared as the CSV contract compares them."""
    wanted = {normalise(h) for h in [header, *aliases]}
    found = [c for c in frame.columns if normalise(c) in wanted]
    if len(found) != 1:
        sys.exit(f"{path}: expected one column named {header} (or {', '.join(aliases) or 'no alias'}), found {found}")
    return frame[found[0]]


def read_rows(path, schema):
    """The file's id column and each feature's raw text, all as str (empty stays empty)."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    ids = column_of(frame, schema["id"]["header"], schema["id"]["aliases"], path).str.strip()
    fields = {f["name"]: column_of(frame, f["header"], f["aliases"], path).str.strip() for f in schema["features"]}
    return ids, fields


def numeric_value(f, text):
    """The number a field holds, or None when the contract rejects it."""
    if text == "":
        if f["missing"] == "reject":
            return None
        text = str(f["missing"]["fill"])
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value) or (f["integer"] and not value.is_integer()):
        return None
    if ("min" in f and value < f["min"]) or ("max" in f and value > f["max"]):
        return None
    if f.get("transform") == "log1p" and value < 0:
        return None
    return value


def category_value(f, text, categories):
    """The canonical category a field names, or None when rejected. `categories` None: any value (a
    "learned" feature's training file, its list not known yet)."""
    if text == "":
        if f["missing"] == "reject":
            return None
        text = f["missing"]["fill"]
    aliases = {normalise(a): v for a, v in f["valueAliases"].items()}
    text = aliases.get(normalise(text), text)
    if categories is None:
        return text
    listed = {normalise(c): c for c in categories}
    return listed.get(normalise(text))


def parse(schema, categories, ids, fields):
    """The accepted rows as (id, {feature: number or category}), and how many were rejected.
    `categories` gives each categorical feature's list; a "learned" feature missing from it takes any value."""
    accepted = []
    texts = {name: column.tolist() for name, column in fields.items()}
    for i, customer in enumerate(ids.tolist()):
        values = {}
        for f in schema["features"]:
            text = texts[f["name"]][i]
            if f["kind"] == "numeric":
                values[f["name"]] = numeric_value(f, text)
            else:
                values[f["name"]] = category_value(f, text, categories.get(f["name"]))
            if values[f["name"]] is None:
                break
        else:
            accepted.append((customer, values))
    return accepted, len(ids) - len(accepted)


def listed_categories(schema):
    """The categorical features whose categories the schema lists, with their lists."""
    listed = [f for f in schema["features"] if f["kind"] == "categorical" and f["categories"] != "learned"]
    return {f["name"]: list(f["categories"]) for f in listed}


def learned_categories(schema, accepted):
    """Each "learned" feature's values over the accepted training rows, sorted; values equal but for
    case and surrounding spaces are one category, spelled as first seen."""
    out = {}
    for f in schema["features"]:
        if f["kind"] == "categorical" and f["categories"] == "learned":
            spelling = {}
            for _, values in accepted:
                spelling.setdefault(normalise(values[f["name"]]), values[f["name"]])
            out[f["name"]] = sorted(spelling.values())
    return out


def encode(schema, categories, accepted):
    """The raw model columns (log1p applied, one-hot in category order) of the accepted rows, and their names."""
    columns, rows = [], []
    for f in schema["features"]:
        columns += [f"{f['name']}={c}" for c in categories[f["name"]]] if f["kind"] == "categorical" else [f["name"]]
    for _, values in accepted:
        row = []
        for f in schema["features"]:
            value = values[f["name"]]
            if f["kind"] == "numeric":
                row.append(np.log1p(value) if f.get("transform") == "log1p" else value)
            else:
                known = {normalise(c): c for c in categories[f["name"]]}
                row += [1.0 if c == known[normalise(value)] else 0.0 for c in categories[f["name"]]]
        rows.append(row)
    return columns, np.array(rows, dtype=float).reshape(len(rows), len(columns))


def weights_of(schema, categories):
    return np.array(
        [f["weight"] for f in schema["features"] for _ in (categories[f["name"]] if f["kind"] == "categorical" else [0])],
        dtype=float,
    )


def parse_ks(text):
    """`2-8`, `3,5,7` or `5`."""
    if "-" in text:
        low, high = (int(x) for x in text.split("-"))
        return list(range(low, high + 1))
    return [int(x) for x in text.split(",")]


def relative_difference(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    size = np.maximum(np.abs(ours), np.abs(theirs))
    return float(np.max(np.where(size == 0, 0.0, np.abs(ours - theirs) / np.where(size == 0, 1.0, size))))


def squared_distances(x, centroids):
    """Exact sums of squared differences, rows × centroids (no ||x||² − 2x·c + ||c||² shortcut)."""
    return ((x[:, None, :] - centroids[None, :, :]) ** 2).sum(axis=2)


def predictor(centroids):
    """A KMeans whose predict labels with the given centroids (what `KMeans.predict` does after fit)."""
    model = KMeans(n_clusters=len(centroids), n_init=1)
    model.cluster_centers_ = centroids
    model.n_features_in_ = centroids.shape[1]
    model._n_threads = 1
    return model


def check_model(args, schema, categories, columns, scaler, x_train, sklearn_inertia):
    with open(args.model) as f:
        model = json.load(f)
    out, ok = {}, True
    ours = model["scaler"]
    same_columns = ours["columns"] == columns and model["centroids"]["columns"] == columns
    out["scaler"] = {"columns_equal": same_columns}
    if not same_columns:
        out["scaler"]["model_columns"] = ours["columns"]
        return out, False
    scaler_check = {
        "mean_max_rel": relative_difference(ours["mean"], scaler.mean_),
        "scale_max_rel": relative_difference(ours["scale"], scaler.scale_),
        "weight_max_rel": relative_difference(ours["weight"], weights_of(schema, categories)),
    }
    scaler_check["ok"] = all(v <= RELATIVE_TOLERANCE for v in scaler_check.values())
    out["scaler"].update(scaler_check)
    ok = ok and scaler_check["ok"]

    centroids = np.array(model["centroids"]["model"], dtype=float)
    k = len(centroids)
    train_inertia = float(squared_distances(x_train, centroids).min(axis=1).sum())
    out["inertia"] = {"k": k, "train": train_inertia, "artifact": model["metrics"]["inertia"]}
    if k in sklearn_inertia:
        out["inertia"]["sklearn"] = sklearn_inertia[k]
        out["inertia"]["excess"] = train_inertia / sklearn_inertia[k] - 1

    if args.holdout and args.labeled:
        holdout_ids, holdout_fields = read_rows(args.holdout, schema)
        accepted, rejected = parse(schema, categories, holdout_ids, holdout_fields)
        kept = [customer for customer, _ in accepted]
        _, x_raw = encode(schema, categories, accepted)
        x = (x_raw - scaler.mean_) / scaler.scale_ * weights_of(schema, categories)
        labels = predictor(centroids).predict(x)
        segment_of_centroid = [s["id"] for s in model["segments"]]
        labeled_ids, _ = read_rows(args.labeled, {"id": schema["id"], "features": []})
        labeled = pd.read_csv(args.labeled, dtype=str, keep_default_na=False)
        ours_by_id = dict(zip(labeled_ids, labeled["segment"].str.strip()))
        nearest = np.sort(squared_distances(x, centroids), axis=1)[:, :2]
        near = k > 1 and nearest[:, 1] - nearest[:, 0] <= RELATIVE_TOLERANCE * np.maximum(nearest[:, 1], 1.0)
        mismatches = [
            {"id": i, "sklearn": segment_of_centroid[l], "ours": ours_by_id[i]}
            for i, l in zip(kept, labels)
            if i in ours_by_id and str(segment_of_centroid[l]) != ours_by_id[i]
        ]
        missing = sum(i not in ours_by_id for i in kept)
        out["labels"] = {
            "method": "KMeans.predict with cluster_centers_ = the model's centroids",
            "rows": len(kept),
            "rejected": rejected,
            "mismatches": len(mismatches),
            "missing": missing,
            "near_ties": int(np.sum(near)),
            "exact_argmin_differs": int(np.sum(squared_distances(x, centroids).argmin(axis=1) != labels)),
            "first_mismatches": mismatches[:5],
        }
        ok = ok and not mismatches and missing == 0
    return out, ok


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schema", required=True)
    parser.add_argument("--train", required=True)
    parser.add_argument("--holdout")
    parser.add_argument("--ks", default="2-8", type=parse_ks)
    parser.add_argument("--seed", default=0, type=int)
    parser.add_argument("--model")
    parser.add_argument("--labeled")
    args = parser.parse_args()
    if args.labeled and not (args.model and args.holdout):
        parser.error("--labeled needs --model and --holdout")

    schema = load_schema(args.schema)
    ids, fields = read_rows(args.train, schema)
    accepted, rejected = parse(schema, listed_categories(schema), ids, fields)
    categories = {**listed_categories(schema), **learned_categories(schema, accepted)}
    columns, x_raw = encode(schema, categories, accepted)
    scaler = StandardScaler().fit(x_raw)
    x = scaler.transform(x_raw) * weights_of(schema, categories)
    out = {"schema": schema["name"], "rows": len(x), "rejected": rejected, "columns": columns, "seed": args.seed, "inertia": {}}
    ok = True
    with threadpool_limits(1):
        for k in args.ks:
            fitted = KMeans(n_clusters=k, n_init=10, random_state=args.seed).fit(x)
            out["inertia"][k] = float(fitted.inertia_)
        if args.model:
            out["model"], ok = check_model(args, schema, categories, columns, scaler, x, out["inertia"])
    print(json.dumps(out))
    sys.exit(0 if ok else 1)


main()
