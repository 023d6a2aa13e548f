"""Next-edit suggestions: from the user's last edits, the edit they will make next elsewhere.

`history` turns a document's successive texts into user-level edits; `propagate` infers the
transformation an edit applied (a rename, the same token rewrite or insertion) and finds its
next unapplied site; `filters` drops what must never be shown (reversals, no-ops, what was
just rejected, the region being typed in); `service` owns all of it per document on the event
loop and answers `textDocument/copilotInlineEdit`. Pure Python, no model, no I/O.
"""
