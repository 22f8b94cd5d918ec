"""The head of a new lead's INSERT row: every column value an imported row decides by itself —
its cleaned values (model defaults where the file left one empty), each channel's ciphertext
and blind index, its import key and `custom` — in the order `BatchProcessor` sends columns
(`Heads.names`). Only the score breakdown and what assignment sets (owner, clocks: the
importer's, in file order) follow it. New leads are read off it too (`batch.new_lead`).

The import's worker process builds each row's head right after encrypting it (`prepare`
with a crypter) and sends it in place of the ciphertexts and cleaned values (docs/
benchmarks.md, "rows finished by the worker"): the importing process copies a finished
tuple instead of assembling ~17 values a row. A row without one — read inline, refused by
the worker's crypter, or an earlier row of the batch filled in by `merge` — gets it from
the importer, with the same code (`Heads.make`), before its lead is built.
"""
from __future__ import annotations

from modules.leads.importer.crypt import BatchCrypter, Channel
from modules.leads.importer.sql import InsertPlan

STORED = ("name", "company", "company_key", "title", "campaign", "region", "industry", "budget",
          "need", "source")
DEFAULTS = {"source": "other"}  # a row without a source (the model default would be the same)


class Heads:
    """Builds heads for one run's rows (column defaults and `custom`'s empty form computed
    once)."""

    def __init__(self, plan: InsertPlan, specs: list[Channel]):
        template = plan.template(DEFAULTS)
        self.specs = specs
        self.plan = plan
        self.stored = [(name, template[plan.position[name]]) for name in STORED]
        self.custom = plan.convert("custom", {})  # a row's `custom` without a label
        self.names = (*STORED, *(n for spec in specs for n in (spec.name, spec.index_name)),
                      "import_key", "custom")

    def make(self, p, crypter: BatchCrypter | None) -> tuple:
        """`p`'s head: its channels from `p.sealed` (encrypted ahead, `batch.seal`) or
        encrypted now with `crypter`."""
        values, indexes, sealed = p.values, p.indexes, p.sealed
        row = [values.get(name, default) for name, default in self.stored]
        for spec in self.specs:
            row.append(sealed[spec.name] if sealed is not None else
                       crypter.encrypt(spec, values.get(spec.name)))
            row.append(indexes[spec.name])
        row.append(p.key)
        row.append(self.plan.convert("custom", {"source_label": values["source_label"]})
                   if "source_label" in values else self.custom)
        return tuple(row)
