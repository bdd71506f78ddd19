"""Quality check against scikit-learn: for k = 2..10 on a customers CSV, prints scikit-learn's
KMeans(n_init=10) inertia on the same standardized data (the original analysis's features:
both gender columns one-hot, then all five columns standardized), and its labels.
With --states N, also how often KMeans(n_init=10) reaches the lowest inertia it finds over
random_state 0..N-1 (`best`, `best_rate`): one random_state's figure is one draw, and on the Mall
Customers data some k have optima that ten starts often miss (k = 7: 239.107 in about 10 % of states).
Usage: /usr/bin/python3 test/bench/sklearn_quality.py <customers.csv> [--states N]  → JSON on stdout."""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

path = sys.argv[1]
states = int(sys.argv[sys.argv.index("--states") + 1]) if "--states" in sys.argv else 0
frame = pd.read_csv(path, dtype={"customer_id": str})
dummies = pd.get_dummies(frame["gender"]).astype(float)
x = pd.concat([dummies[["Female", "Male"]], frame[["age", "annual_income_thousands", "spending_score"]]], axis=1)
x = StandardScaler().fit_transform(x.to_numpy(dtype=float))
out = {}
for k in range(2, 11):
    model = KMeans(n_clusters=k, n_init=10, random_state=0, max_iter=300).fit(x)
    out[k] = {"inertia": float(model.inertia_), "labels": model.labels_.tolist()}
    if states > 0:
        inertias = [float(KMeans(n_clusters=k, n_init=10, random_state=s, max_iter=300).fit(x).inertia_) for s in range(states)]
        best = min(inertias)
        out[k]["best"] = best
        out[k]["best_rate"] = sum(i <= best * (1 + 1e-9) for i in inertias) / states
json.dump(out, sys.stdout)
