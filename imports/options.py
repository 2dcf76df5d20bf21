"""The ways a file can be read, as people choose them: on the upload page, on the command line
and on a schedule (each stored as `auto` or the value itself)."""

from __future__ import annotations

HEADER_CHOICES = [
    ("auto", "Detect"),
    ("yes", "Yes: the first line names the columns"),
    ("no", "No: the first line is a user"),
]
DELIMITER_CHOICES = [
    ("auto", "Detect"),
    (",", "Comma ,"),
    (";", "Semicolon ;"),
    ("\t", "Tab"),
    ("|", "Vertical bar |"),
]
QUOTECHAR_CHOICES = [
    ("auto", "Detect"),
    ('"', 'Double quote "'),
    ("'", "Single quote '"),
    ("none", "None"),
]
ENCODING_CHOICES = [
    ("auto", "Detect"),
    ("utf-8", "UTF-8"),
    ("utf-8-sig", "UTF-8 with BOM (Excel's CSV UTF-8)"),
    ("utf-16", "UTF-16 (Excel's Unicode text)"),
    ("cp1252", "Windows-1252 (Excel's CSV on Windows)"),
    ("latin-1", "Latin-1 (ISO-8859-1)"),
]

# On the command line, where a tab is hard to type: the word, then the value stored.
CLI_DELIMITERS = {"auto": "auto", ",": ",", ";": ";", "tab": "\t", "|": "|"}
CLI_QUOTECHARS = {"auto": "auto", '"': '"', "'": "'", "none": "none"}

# Apply only a file without errors: off by default (the original tool applied each valid row).
ALL_OR_NOTHING_LABEL = "All or nothing"
ALL_OR_NOTHING_HELP = (
    "Apply only if the whole file is valid: when any row has an error (a duplicate included), "
    "nothing is sent and every row is reported not sent."
)
