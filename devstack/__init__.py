"""The local stack behind `make run` and the tests' AWS: never shipped in the Lambda package.

It lives outside chalicelib/ because chalice copies all of chalicelib/ into the zip.
"""
