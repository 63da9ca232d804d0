"""The language server (`csdsl lsp`): an editor's view of a policy as it is typed.

`session` keeps the open buffers and compiles each over the disk (`check.compile_file` with an
overlay); `problems` turns diagnostics into the editor's, `index` finds definitions and
references, `hover`, `complete`, `outline` and `actions` answer one kind of request each,
`positions` converts code points to UTF-16, and `server` wires them to pygls.  pygls and
lsprotocol come with the `lsp` extra (`pip install 'csdsl[lsp]'`).
"""
