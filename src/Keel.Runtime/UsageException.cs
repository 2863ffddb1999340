namespace Keel.Runtime;

/// <summary>The command line or configuration is wrong; the message says what and how to fix it.</summary>
public sealed class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException()
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
