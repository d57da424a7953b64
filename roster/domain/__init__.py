"""The pure core: plain functions over dataclasses. No Flask, no database, no clock."""
