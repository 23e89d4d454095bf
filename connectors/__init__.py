"""Connectors: collect raw API objects from a provider into a snapshot directory (idaudit.core.snapshot).

One sub-package per provider (`microsoft`, `google`); `interface.py` holds what they share. Heavy client libraries
(msal, msgraph-sdk, googleapiclient) are imported only when a connector is used. Which connector collects a
configured tenant is decided one layer up, in idaudit.orchestration.collecting.collect_tenant.
"""
