"""The engine side of the host/engine message protocol (`src/core/messages.ts`, BRIEF contract 1)."""
