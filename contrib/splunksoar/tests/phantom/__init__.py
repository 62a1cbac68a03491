"""A minimal stand-in for the phantom modules Splunk SOAR provides to app
connectors, for the connector's unit tests: only what iocane_connector.py
uses, with the same names and behaviour."""
