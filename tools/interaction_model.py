"""Write the interaction model's slot types from ``villages_sync.skill.catalog``.

The catalog is what the skill's code matches venues and categories with; the model's VENUE,
CATEGORY and PART_OF_DAY types must say the same (ids, values, synonyms), or Alexa resolves a
venue the code does not know. Intents and samples are written by hand in the same file.

    python tools/interaction_model.py          # rewrite the types in en-US.json
    python tools/interaction_model.py --check  # exit 1 when the file is behind the catalog
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from villages_sync.skill.catalog import CATEGORIES, PARTS_OF_DAY, VENUES

MODEL = Path(__file__).resolve().parent.parent / "skill-package/interactionModels/custom/en-US.json"


def slot_types() -> list[dict[str, Any]]:
    def value(value_id: str, name: str, synonyms: tuple[str, ...]) -> dict[str, Any]:
        return {"id": value_id, "name": {"value": name, "synonyms": list(synonyms)}}

    return [
        {"name": "VENUE", "values": [value(v.id, v.name, v.synonyms) for v in VENUES]},
        {"name": "CATEGORY", "values": [value(c.id, c.name, c.synonyms) for c in CATEGORIES]},
        {"name": "PART_OF_DAY", "values": [value(*part) for part in PARTS_OF_DAY]},
    ]


def with_catalog_types(model: dict[str, Any]) -> dict[str, Any]:
    updated = json.loads(json.dumps(model))
    updated["interactionModel"]["languageModel"]["types"] = slot_types()
    return updated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when behind")
    args = parser.parse_args(argv)
    model = json.loads(MODEL.read_text(encoding="utf-8"))
    wanted = with_catalog_types(model)
    if args.check:
        if wanted != model:
            print(f"{MODEL} is behind the catalog: run python tools/interaction_model.py")
            return 1
        return 0
    MODEL.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {MODEL}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
