"""A stand-alone emulator of SmartRecruiters' User API (v201804), OAuth included.

Plain standard library, no Django: `python -m user2smart.smartrecruiters.emulator --port 8900`.
It follows shared/smartrecruiters-api.md; docs/emulator.md describes the control API under
`/_emulator/`, the fault options, the stats document and the error codes it answers.
"""
