"""The sentinel that means "keep the base image's value"."""

INHERIT_FROM_BASE = "<inherit from base>"
