using System.Runtime.InteropServices;

namespace Keel.Tests.Support;

/// <summary>POSIX signals to the processes a test starts (SIGINT and SIGTERM as a user or a service manager sends them).</summary>
internal static class Signals
{
    public const int Interrupt = 2;
    public const int Terminate = 15;
    public const int Continue = 18;
    public const int Stop = 19;

    /// <summary>kill(2): 0 when the signal was sent.</summary>
    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Send(int pid, int signal);
}
