"""The embedded tiny world: generated tasks, a word-level tokenizer, and the pretrain stage of the
tiny base model (``model=tiny``). May import the shared core and the stage cache only (its
maintainer script ``build_assets`` also composes the config)."""
