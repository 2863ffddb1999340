using Keel.Runtime;

namespace Keel.Tests.Runtime;

/// <summary>
/// The output folder: files are written into a hidden staging folder and moved into place on commit, replacing the
/// files of an earlier run; nothing of the staging folder (nor the old files) is left behind.
/// </summary>
public sealed class OutputFolderTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "keel-out-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private void Run(params (string Name, string Text)[] files)
    {
        using var output = OutputFolder.Create(_dir);
        foreach (var (name, text) in files)
        {
            using var s = output.OpenWrite(name);
            s.Write(System.Text.Encoding.UTF8.GetBytes(text));
        }

        output.Commit(files[^1].Name);
    }

    [Fact]
    public void Commit_ReplacesTheFilesOfAnEarlierRun_AndLeavesNothingElse()
    {
        Run(("orders.csv", "old orders"), ("equity.csv", "old equity"), ("metrics.json", "old"));
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "the user's");

        Run(("orders.csv", "new orders"), ("equity.csv", "new equity, longer than before"), ("metrics.json", "new"));

        Assert.Equal("new orders", File.ReadAllText(Path.Combine(_dir, "orders.csv")));
        Assert.Equal("new equity, longer than before", File.ReadAllText(Path.Combine(_dir, "equity.csv")));
        Assert.Equal("new", File.ReadAllText(Path.Combine(_dir, "metrics.json")));
        Assert.Equal("the user's", File.ReadAllText(Path.Combine(_dir, "notes.txt")));
        Assert.Equal(
            new[] { "equity.csv", "metrics.json", "notes.txt", "orders.csv" },
            Directory.EnumerateFileSystemEntries(_dir).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public void ThePreviousRunsFiles_AreDeletedAfterTheCommit_ByWhoeverTookTheCleanup()
    {
        using (var first = OutputFolder.Create(_dir))
        {
            using (var s = first.OpenWrite("equity.csv"))
            {
                s.Write(new byte[1 << 20]);
            }

            first.Commit("equity.csv");
            Assert.Null(first.TakeCleanup()); // a new folder: nothing of an earlier run to delete
        }

        Task? cleanup;
        using (var second = OutputFolder.Create(_dir))
        {
            using (var s = second.OpenWrite("equity.csv"))
            {
                s.Write("new"u8);
            }

            second.Commit("equity.csv");
            cleanup = second.TakeCleanup();
            Assert.NotNull(cleanup);
            Assert.Equal("new", File.ReadAllText(Path.Combine(_dir, "equity.csv")));
        }

        OutputFolder.WaitQuietly(cleanup);
        Assert.Equal(new[] { "equity.csv" }, Directory.EnumerateFileSystemEntries(_dir).Select(p => Path.GetFileName(p)!).ToArray());
    }

    [Fact]
    public void Commit_OntoAFolderOfTheSameName_Fails_AndTheFolderIsKept()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "orders.csv"));
        File.WriteAllText(Path.Combine(_dir, "orders.csv", "keep.txt"), "mine");

        Assert.ThrowsAny<IOException>(() => Run(("orders.csv", "new orders"), ("metrics.json", "new")));

        Assert.Equal("mine", File.ReadAllText(Path.Combine(_dir, "orders.csv", "keep.txt")));
        Assert.False(File.Exists(Path.Combine(_dir, "metrics.json")));
    }

    [Fact]
    public void OpenWrite_ReplacesAFileAResumedRunLeftInItsStagingFolder()
    {
        using (var first = OutputFolder.Create(_dir, "r1"))
        {
            first.KeepStaging = true;
            using var s = first.OpenWrite("report.html");
            s.Write("an earlier attempt's report, longer"u8);
        }

        using var output = OutputFolder.Create(_dir, "r1", resume: true);
        using (var s = output.OpenWrite("report.html"))
        {
            s.Write("the report"u8);
        }

        output.Commit("report.html");
        Assert.Equal("the report", File.ReadAllText(Path.Combine(_dir, "report.html")));
        Assert.False(Directory.Exists(OutputFolder.StagingPath(_dir, "r1")));
    }

    [Fact]
    public void OnLinux_FilesAreExchanged_NotRenamedOver()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // renameat2 is Linux's; elsewhere Replace is File.Move
        }

        Directory.CreateDirectory(_dir);
        string a = Path.Combine(_dir, "a"), b = Path.Combine(_dir, "b");
        File.WriteAllText(a, "new");
        File.WriteAllText(b, "old");

        Assert.True(FileReplace.TryExchange(a, b));

        Assert.Equal("new", File.ReadAllText(b));
        Assert.Equal("old", File.ReadAllText(a));
    }
}
