"""Quality check against scikit-learn: for k = 2..10 on a customers CSV, prints scikit-learn's
KMeans(n_init=10) inertia on the same standardized data (the original analysis's features:
both gender columns one-hot, then all five columns standardized), and its labels.
Usage: /usr/bin/python3 test/bench/sklearn_quality.py <customers.csv>  → JSON on stdout."""
import json
import sys

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

frame = pd.read_csv(sys.argv[1], dtype={"customer_id": str})
dummies = pd.get_dummies(frame["gender"]).astype(float)
x = pd.concat([dummies[["Female", "Male"]], frame[["age", "annual_income_thousands", "spending_score"]]], axis=1)
x = StandardScaler().fit_transform(x.to_numpy(dtype=float))
out = {}
for k in range(2, 11):
    model = KMeans(n_clusters=k, n_init=10, random_state=0, max_iter=300).fit(x)
    out[k] = {"inertia": float(model.inertia_), "labels": model.labels_.tolist()}
json.dump(out, sys.stdout)
