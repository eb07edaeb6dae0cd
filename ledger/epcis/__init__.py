"""EPCIS 2.0 (GS1, ISO/IEC 19987) JSON-LD for ledger events: export, capture, event hash IDs.

Pure: no database, web or file access. `docs/epcis.md` is the mapping these modules implement.
"""
