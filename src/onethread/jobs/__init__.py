"""The worker: claims due rows, delivers the outbox, runs the registered sweeps."""
