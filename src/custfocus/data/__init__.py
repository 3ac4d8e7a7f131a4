"""The data contract, loading and validation of a company's tables, and the demo company."""
