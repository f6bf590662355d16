"""A zip function without `MlLayer` (or `VisualLayer`) must load without what those layers hold: its handler
module is imported in a fresh interpreter where numpy, onnxruntime and the rest cannot be imported, as on
Lambda. So a function can leave the ML layer (and its memory) only if its code really does without it."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.unit.iam import STACK

ML_LAYERS = {"MlLayer", "VisualLayer"}
# What MlLayer and VisualLayer hold (layers/ml/requirements.txt, layers/visual/), and the training libraries.
ML_MODULES = ("numpy", "onnxruntime", "rank_bm25", "threadpoolctl", "faiss", "PIL", "sklearn", "scipy", "pandas")

IMPORT_ALL = """
import json, sys
for name in json.loads(sys.argv[1]):
    sys.modules[name] = None  # `import numpy` now raises ImportError, as where no layer holds it
sys.path.insert(0, "layers/core")
from infra.runner.invoker import load_handler
from pathlib import Path
failed = {}
for logical_id, code_uri, module, attribute in json.loads(sys.argv[2]):
    try:
        load_handler(Path(code_uri), module, attribute)
    except Exception as exc:  # noqa: BLE001 - reported per function below
        failed[logical_id] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failed))
"""


def test_functions_without_the_ml_layers_load_without_them() -> None:
    lean = [fn for fn in STACK.functions() if not fn.image and not ML_LAYERS & set(fn.layers)]
    assert {"SupportAgentFunction", "SupportAdminFunction", "SupportTicketsFunction"} <= {fn.logical_id for fn in lean}
    handlers = [[fn.logical_id, str(fn.code_uri), fn.module, fn.attribute] for fn in lean]
    run = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL, json.dumps(ML_MODULES), json.dumps(handlers)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {}
