from telemetry.records import (
    CallEvent,
    FanOutReporter,
    MemoryReporter,
    QualitySample,
    TelemetryRecord,
    TelemetryReporter,
    UsageEvent,
    record_to_json,
)


def sample() -> QualitySample:
    return QualitySample(
        room="r1",
        participant="alice",
        media="audio",
        jitter_ms=4.0,
        packets_lost=2,
        loss_fraction=0.01,
        rtt_ms=20.0,
        bitrate_kbps=32.0,
        mos=4.3,
    )


async def test_fan_out_delivers_every_record_to_every_reporter_in_order() -> None:
    first, second = MemoryReporter(), MemoryReporter()
    reporter: TelemetryReporter = FanOutReporter(first, second)
    records: list[TelemetryRecord] = [
        CallEvent("participant-joined", "r1", "alice"),
        sample(),
        UsageEvent("stt_audio_seconds", 2.5),
    ]
    for record in records:
        reporter.report(record)
    await reporter.aclose()
    assert first.records == records == second.records
    assert first.of_type(QualitySample) == [records[1]]


def test_records_serialise_with_their_type_and_a_unique_idempotency_key() -> None:
    one, two = sample(), sample()
    assert one.idempotency_key != two.idempotency_key
    data = record_to_json(one)
    assert data["record"] == "QualitySample"
    assert data["mos"] == 4.3
    assert data["room"] == "r1"
