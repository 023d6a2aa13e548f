"""One completion: request -> prompt -> engine -> post-processing. Runs on the engine's thread.

The same code serves the LSP handlers, `smallcode-lsp complete`, the benchmarks and the eval.
Its steps are a `CompletionPlan` chosen once from the settings: workspace context or a plain
prefix/suffix window; syntax-aware shaping or indentation stops. The plan with both off is the
baseline the evaluation compares against.

One module per concern, each importing only those listed after it:
`job.py` (what the scheduler hands the engine: `JobKind`, `CompletionJob`) > `run.py` (running
one: `run_completion`, `run_alternatives`, `grow_prompt`, `warm_prompt`) > `sizing.py` (the
prompt tier a time budget pays for, token healing) > `plan.py` (`CompletionPlan`, `make_plan`
and the baseline steps) > `sources.py` (`ContextSources`: the memory kept between requests,
one per engine thread).
"""
