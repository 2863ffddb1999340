using System.Security.Cryptography;
using System.Text;

namespace Keel.Runtime.Live;

/// <summary>
/// One live run per venue account, across processes (seed 002: one active run per OANDA account). Two runs on one
/// account would trade the same positions: each would find the other's orders and fills at every reconciliation. A
/// live run holds an exclusive lock file, named by a hash of the account, for as long as it trades; the operating
/// system releases it when the process ends, however it ends.
/// </summary>
public sealed class AccountLock : IDisposable
{
    private readonly FileStream _file;

    private AccountLock(FileStream file) => _file = file;

    /// <summary>Where the lock files live: <c>$KEEL_LOCK_DIR</c>, else <c>keel-locks</c> in the temporary directory.</summary>
    public static string Directory => Environment.GetEnvironmentVariable("KEEL_LOCK_DIR") is { Length: > 0 } dir
        ? dir
        : Path.Combine(Path.GetTempPath(), "keel-locks");

    /// <summary>Takes the lock of <paramref name="account"/> for <paramref name="runId"/>, or says which run holds it.</summary>
    public static AccountLock Acquire(string account, string runId)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(account)))[..24];
        var path = Path.Combine(Directory, $"account-{name}.lock");
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            string holder;
            try
            {
                // The lock file itself cannot be read while it is held; the holder's id is in a file beside it.
                holder = File.ReadAllText(path + ".run").Trim();
            }
            catch (IOException)
            {
                holder = string.Empty;
            }

            throw new UsageException($"the {account} is already being traded by live run {(holder.Length > 0 ? holder : "(unknown)")}; Keel trades one live run per account (stop that run first, or use another account)");
        }

        File.WriteAllText(path + ".run", runId);
        return new AccountLock(file);
    }

    public void Dispose() => _file.Dispose();
}
