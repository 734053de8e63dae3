"""End-of-turn detection engines: voice activity and a semantic end-of-turn model."""
