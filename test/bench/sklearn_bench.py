"""The original pipeline in Python, for side-by-side benchmarks (npm run bench).
pandas read_csv, both gender columns one-hot, StandardScaler, KMeans(lloyd), one thread.

  sklearn_bench.py fit <csv> <k> <n_init>   -> JSON {fit_ms, inertia, peak_rss_mb}
  sklearn_bench.py sweep <csv>              -> fits k = 1..10 (n_init=10), prints nothing
  sklearn_bench.py assign <csv> <out.csv>   -> fits k = 5 on the first 10,000 rows, labels the file
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


def features(frame):
    dummies = pd.get_dummies(frame["gender"]).astype(float)
    return pd.concat([dummies[["Female", "Male"]], frame[NUMERIC]], axis=1).to_numpy(dtype=float)


def main():
    mode, path = sys.argv[1], sys.argv[2]
    with threadpool_limits(1):
        frame = pd.read_csv(path, dtype={"customer_id": str})
        if mode == "fit":
            k, n_init = int(sys.argv[3]), int(sys.argv[4])
            x = StandardScaler().fit_transform(features(frame))
            start = time.perf_counter()
            model = KMeans(n_clusters=k, n_init=n_init, random_state=0, algorithm="lloyd").fit(x)
            fit_ms = (time.perf_counter() - start) * 1000
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(json.dumps({"fit_ms": fit_ms, "inertia": float(model.inertia_), "peak_rss_mb": peak}))
        elif mode == "sweep":
            x = StandardScaler().fit_transform(features(frame))
            for k in range(1, 11):
                KMeans(n_clusters=k, n_init=10, random_state=0, algorithm="lloyd").fit(x)
        elif mode == "assign":
            scaler = StandardScaler().fit(features(frame.head(10_000)))
            model = KMeans(n_clusters=5, n_init=10, random_state=0, algorithm="lloyd").fit(scaler.transform(features(frame.head(10_000))))
            x = scaler.transform(features(frame))
            frame["segment"] = model.predict(x)
            frame["segment_distance"] = model.transform(x).min(axis=1)
            frame.to_csv(sys.argv[3], index=False)


main()
