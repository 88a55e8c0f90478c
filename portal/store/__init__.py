"""The portal's storage: the database connection, the models and their migrations."""
