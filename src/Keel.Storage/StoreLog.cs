using Microsoft.Extensions.Logging;

namespace Keel.Storage;

/// <summary>The store's log entries: event ids 4000–4999 (docs/logging.md lists each and what to do about it).</summary>
internal static partial class StoreLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "{Snapshot} of run {RunId} in {Store} is damaged (checksum mismatch); using an older one")]
    public static partial void SnapshotDamaged(ILogger logger, string snapshot, string runId, string store);
}
