"""The compliance domain: data exports, erasure, retention policies, legal holds, GDPR reports."""
