"""Lead import from CSV (UTF-8 or GBK) and XLSX: a job with progress, resumable and idempotent.

- `reader`: file type and encoding, header row, rows with spreadsheet row numbers;
- `mapping`: header recognition (Chinese and English) and saved column mappings;
- `batch`: one batch — clean, skip rows already imported, dedupe, encrypt, insert, merge;
- `crypt` / `heads` / `sql`: the hot path (channel encryption and blind indexes in a tight
  loop, each row's INSERT values, one multi-row INSERT per batch);
- `run`: the `ImportRun` lifecycle (create, claim, execute in transactional batches, finish,
  resume); `report`: the error report (CSV with BOM);
- `service`: rights and options for the API and CLI; `jobs`: the huey tasks; `cli`:
  `huike import leads FILE`.
"""
