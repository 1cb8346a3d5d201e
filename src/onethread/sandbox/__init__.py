"""The sandbox: a manual clock in the database that trainers, demos and integrators move."""
