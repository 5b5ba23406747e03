"""What every capability shares: AWS clients, DynamoDB helpers, the job runner, outbound messages, HTTP."""
