"""The only code that does I/O: AWS clients, PynamoDB models, the gateway."""
