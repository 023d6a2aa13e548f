"""What the model is shown and how its output is shaped (pure logic: no LSP, no llama).

Wiring (server / pipeline):
- didOpen:   docs[uri] = ParsedDocument(text, language_id, path)
- didChange: per change: start = doc.offset_at(r.start.line, r.start.character),
             end = doc.offset_at(r.end.line, r.end.character); doc.apply_edit(start, end, text)
             (full sync: doc.set_text(text)); recent.add_around(path, doc.text, start)
- didClose:  docs.pop(uri)
- per completion (pipeline), with builder = ContextBuilder(index, recent, model.count_tokens):
    parts   = builder.build(req, doc, budget, suffix_budget)
    shape   = shaping.decide_shape(req, doc)
    stopper = shaping.SyntaxStopper(req, doc, shape)      # stopper.check is a StopRule
    text    = postprocess.chain.postprocess(generated, req, doc, shape)
- snippets text for the prompt: repo_format.render_snippets(parts.snippets, ...)
"""
