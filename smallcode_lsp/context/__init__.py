"""What the model is shown and how its output is shaped (pure logic: no LSP, no llama).

Wiring (server / completion/):
- didOpen:   docs[uri] = ParsedDocument(text, language_id, path)
- didChange: per change: start = doc.offset_at(r.start.line, r.start.character),
             end = doc.offset_at(r.end.line, r.end.character); doc.apply_edit(start, end, text)
             (full sync: doc.set_text(text)); recent.add_around(path, doc.text, start)
- didClose:  docs.pop(uri)
- per completion (completion/), with builder = ContextBuilder(index, recent, model.blocks.count):
    parts   = builder.build(req, doc, budget, suffix_budget)
    shape   = shaping.decide_shape(req, doc)
    stopper = shaping.SyntaxStopper(req, doc, shape)      # stopper.check is a StopRule
    text    = postprocess.chain.postprocess(generated, req, doc, shape)
  The pipeline runs on the engine thread while didChange edits the document: hand it
  doc.copy() (copies the tree reference-counted, O(1)) taken together with the snapshot.
- recent ring: add on didOpen / didSave / when the cursor jumps far, not every keystroke.
- the prompt text and tokens: engine/prompt.build_prompt(parts, ...)
"""
