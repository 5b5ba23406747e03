"""Operations' commands (not shipped in the Lambda package)."""
