"""The bayes_opt tutorial, unchanged except for its import line: tune an SVC's C for ROC AUC.

Run:  python examples/bayes_opt_dropin.py        (under a minute on a laptop CPU, every example's budget)
"""

# from bayes_opt import BayesianOptimization            # the original import
from gpu_bo.integrations.bayes_opt import BayesianOptimization

from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

# Prepare the data.
cancer = load_breast_cancer()
X = cancer["data"]
y = cancer["target"]

X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=42)

scaler = StandardScaler()
X_train_scaled = scaler.fit_transform(X_train)
X_test_scaled = scaler.transform(X_test)


# Define the black box function to optimize.
def black_box_function(C):
    # C: SVC hyper parameter to optimize for.
    model = SVC(C=C)
    model.fit(X_train_scaled, y_train)
    y_score = model.decision_function(X_test_scaled)
    f = roc_auc_score(y_test, y_score)
    return f


# Set range of C to optimize for.
# bayes_opt requires this to be a dictionary.
pbounds = {"C": [0.1, 15]}

# Create a BayesianOptimization optimizer,
# and optimize the given black_box_function.
optimizer = BayesianOptimization(f=black_box_function, pbounds=pbounds, verbose=2, random_state=7)
optimizer.maximize(init_points=5, n_iter=25)

print("Best result: {}; f(x) = {:.3f}.".format(optimizer.max["params"], optimizer.max["target"]))
