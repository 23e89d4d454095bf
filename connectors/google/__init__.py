"""Google Workspace connector: service account with domain-wide delegation, google-api-python-client, batches.

Heavy libraries (googleapiclient, google-auth, httplib2) load only when `collect` or `client` is imported.
"""
