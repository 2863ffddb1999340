// Keel's tests run on Linux (they start PostgreSQL, mount read-only folders and send POSIX signals).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
