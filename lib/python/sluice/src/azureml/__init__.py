"""A compatibility layer for scripts written for Azure ML's ``azureml.core`` (provided by Sluice)."""
