"""Simulated sessions: the mechanistic circuit (``source: circuit``) or the planted calibration
generator (``source: planted``); either gives a session's rates and spikes (DESIGN.md)."""


def simulate_session(config, session, regions=None, sources=None, processes=1):
    """One session's rates and spikes from the config's ``source``.

    ``regions``, ``sources`` and ``processes`` apply to the planted source,
    whose regions are separate networks (:func:`wmattn.simulation.planted.simulate_session`);
    the circuit simulates every region of the session in one network.
    """
    if config["source"] == "circuit":
        from wmattn.simulation import circuit

        return circuit.simulate_session(config, session)
    from wmattn.simulation import planted

    return planted.simulate_session(config, session, regions=regions, sources=sources, processes=processes)
