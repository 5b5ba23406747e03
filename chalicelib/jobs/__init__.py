"""Queue and schedule handlers: thin, each calls one service."""
