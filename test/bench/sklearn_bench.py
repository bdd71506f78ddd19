"""The original pipeline in Python, each mode a whole process, for side-by-side benchmarks (npm run bench).
pandas read_csv, both gender columns one-hot, StandardScaler, KMeans(k=5, n_init=10, random_state=0,
algorithm="lloyd"), one thread.

  sklearn_bench.py train <csv> [k] [n_init]  -> read, encode, scale, fit; JSON {inertia, fit_ms, fit_cpu_ms, peak_rss_mb}
                                                (fit_ms, fit_cpu_ms: KMeans.fit alone, for the bench's internal table)
  sklearn_bench.py assign <csv> <out.csv>     -> read, fit k = 5 on the first 10,000 rows, scale and label
                                                every row (segment, distance to its centroid), to_csv
"""
import json
import resource
import sys
import time

import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

NUMERIC = ["age", "annual_income_thousands", "spending_score"]
ASSIGN_TRAINING_ROWS = 10_000


def features(frame):
    dummies = pd.get_dummies(frame["gender"]).astype(float)
    return pd.concat([dummies[["Female", "Male"]], frame[NUMERIC]], axis=1).to_numpy(dtype=float)


def kmeans(k, n_init):
    return KMeans(n_clusters=k, n_init=n_init, random_state=0, algorithm="lloyd")


def main():
    mode, path = sys.argv[1], sys.argv[2]
    with threadpool_limits(1):
        frame = pd.read_csv(path, dtype={"customer_id": str})
        if mode == "train":
            k = int(sys.argv[3]) if len(sys.argv) > 3 else 5
            n_init = int(sys.argv[4]) if len(sys.argv) > 4 else 10
            x = StandardScaler().fit_transform(features(frame))
            start, cpu_start = time.perf_counter(), time.process_time()
            model = kmeans(k, n_init).fit(x)
            fit_ms = (time.perf_counter() - start) * 1000
            fit_cpu_ms = (time.process_time() - cpu_start) * 1000
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(json.dumps({"inertia": float(model.inertia_), "fit_ms": fit_ms, "fit_cpu_ms": fit_cpu_ms, "peak_rss_mb": peak}))
        elif mode == "assign":
            training = features(frame.head(ASSIGN_TRAINING_ROWS))
            scaler = StandardScaler().fit(training)
            model = kmeans(5, 10).fit(scaler.transform(training))
            x = scaler.transform(features(frame))
            frame["segment"] = model.predict(x)
            frame["segment_distance"] = model.transform(x).min(axis=1)
            frame.to_csv(sys.argv[3], index=False)
        else:
            sys.exit(f"unknown mode {mode}")


main()
