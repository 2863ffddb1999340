using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Keel.Domain;
using Keel.Engine.Kernel;
using Keel.Engine.Strategies;
using Keel.Strategies;
using Keel.Tests.Support;

namespace Keel.Tests.Conventions;

/// <summary>Architecture rules from ARCHITECTURE.md and STYLE.md, checked on the built assemblies and sources.</summary>
public class ConventionTests
{
    private static readonly Assembly Domain = typeof(Money).Assembly;
    private static readonly Assembly Engine = typeof(TradingKernel).Assembly;
    private static readonly Assembly Strategies = typeof(SmaCross).Assembly;
    private static readonly Assembly Indicators = typeof(Keel.Indicators.Sma).Assembly;
    private static readonly Assembly Data = typeof(Keel.Data.CsvBarReader).Assembly;

    /// <summary>
    /// The intended project graph, one way: each source project and the Keel projects it may reference. The csproj files
    /// must say exactly this and the compiled assemblies may use no more. A new reference is a design decision: make it here.
    /// </summary>
    private static readonly Dictionary<string, string[]> AllowedReferences = new()
    {
        ["Keel.Domain"] = [],
        ["Keel.Indicators"] = ["Keel.Domain"],
        ["Keel.Engine"] = ["Keel.Domain"],
        ["Keel.Data"] = ["Keel.Domain", "Keel.Engine"],
        ["Keel.Strategies"] = ["Keel.Domain", "Keel.Engine", "Keel.Indicators"],
        ["Keel.Storage"] = ["Keel.Domain", "Keel.Engine"],
        ["Keel.Venues"] = ["Keel.Domain", "Keel.Engine"],
        ["Keel.Sandbox"] = ["Keel.Data", "Keel.Domain", "Keel.Engine"],
        ["Keel.Runtime"] = ["Keel.Data", "Keel.Domain", "Keel.Engine", "Keel.Indicators", "Keel.Storage", "Keel.Strategies", "Keel.Venues"],
        ["Keel.Pipeline"] = ["Keel.Data", "Keel.Domain", "Keel.Engine", "Keel.Storage"],
        ["Keel.Server"] = ["Keel.Domain", "Keel.Engine", "Keel.Pipeline", "Keel.Runtime", "Keel.Storage"],
        ["Keel.Cli"] = ["Keel.Data", "Keel.Domain", "Keel.Engine", "Keel.Indicators", "Keel.Pipeline", "Keel.Runtime", "Keel.Sandbox", "Keel.Server", "Keel.Storage", "Keel.Strategies", "Keel.Venues"],
    };

    /// <summary>The core: computation only. Files, the console and threads belong to hosts and adapters.</summary>
    private static readonly string[] CoreProjects = ["Keel.Domain", "Keel.Indicators", "Keel.Engine", "Keel.Strategies"];

    /// <summary>
    /// Core files allowed to use what <see cref="ForbiddenInTheCore"/> names, each with its reason. A folder ends in '/'.
    /// An exemption that no longer matches an offence fails the scan, so stale ones get deleted.
    /// </summary>
    private static readonly Dictionary<string, string> CoreExemptions = new()
    {
        // The levels file is part of the strategy (docs/strategies.md, write_back= and state=): read at start, rewritten
        // after fills through a temporary file and one rename.
        ["src/Keel.Strategies/LadderFile.cs"] = "Ladder (SCALE_T) reads its levels CSV and writes its state back to it",
    };

    private static readonly (string What, Regex Pattern)[] ForbiddenInTheCore =
    [
        ("the console", new Regex(@"\bConsole\s*\.|\bSystem\.Console\b", RegexOptions.Compiled)),
        ("file IO", new Regex(@"\bFile\s*\.|\bSystem\.IO\.File\b|\bFile(Stream|Info)\b|\bDirectory(Info)?\b|\bStream(Reader|Writer)\b", RegexOptions.Compiled)),
        ("a thread of its own", new Regex(@"\bnew\s+(System\.Threading\.)?Thread\s*\(|\bThreadPool\b|\bTask\s*\.\s*(Run|Factory)\b", RegexOptions.Compiled)),
    ];

    public static TheoryData<string> Projects => [.. AllowedReferences.Keys];

    public static TheoryData<string> Core => [.. CoreProjects];

    [Fact]
    public void EverySourceProject_HasItsAllowedReferencesWrittenDown()
    {
        var projects = Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(f => Path.GetFileNameWithoutExtension(f)).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(AllowedReferences.Keys.Order(StringComparer.Ordinal), projects);
    }

    [Fact]
    public void TheAllowedReferences_PointOneWay_AndTheCoreReferencesOnlyTheCore()
    {
        // Depth-first; a project met again while still on the path closes a cycle.
        var done = new HashSet<string>();
        var path = new List<string>();
        void Visit(string project)
        {
            Assert.True(!path.Contains(project), $"the allowed references form a cycle: {string.Join(" -> ", path.SkipWhile(p => p != project))} -> {project}");
            if (!done.Add(project))
            {
                return;
            }

            path.Add(project);
            foreach (var reference in AllowedReferences[project])
            {
                Assert.True(AllowedReferences.ContainsKey(reference), $"{project} may reference {reference}, which is not a source project");
                Visit(reference);
            }

            path.RemoveAt(path.Count - 1);
        }

        foreach (var project in AllowedReferences.Keys)
        {
            Visit(project);
        }

        foreach (var core in CoreProjects)
        {
            Assert.All(AllowedReferences[core], r => Assert.Contains(r, CoreProjects));
        }
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void ProjectFile_ReferencesExactlyTheAllowedProjects(string project)
    {
        var csproj = XDocument.Load(Path.Combine(TestPaths.RepoRoot, "src", project, project + ".csproj"));
        var references = csproj.Descendants("ProjectReference")
            .Select(e => Path.GetFileNameWithoutExtension(e.Attribute("Include")!.Value.Replace('\\', '/')))
            .Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(AllowedReferences[project], references);
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void CompiledAssembly_UsesOnlyTheAllowedProjects(string project)
    {
        var extra = AssemblyOf(project).GetReferencedAssemblies().Select(r => r.Name!)
            .Where(n => n.StartsWith("Keel.", StringComparison.Ordinal)).Except(AllowedReferences[project]).ToArray();
        Assert.True(extra.Length == 0, $"{project} uses {string.Join(", ", extra)}, which the allowed references do not include");
    }

    [Theory]
    [MemberData(nameof(Core))]
    public void TheCore_ReferencesNoIoLibraries(string project)
    {
        var refs = AssemblyOf(project).GetReferencedAssemblies().Select(r => r.Name!).ToArray();
        Assert.DoesNotContain(refs, n => n.Contains("Sqlite", StringComparison.Ordinal) || n.Contains("Npgsql", StringComparison.Ordinal)
            || n.Contains("AspNetCore", StringComparison.Ordinal) || n == "System.Net.Http" || n == "System.Console");
    }

    [Fact]
    public void TheCore_OpensNoFiles_WritesNoConsole_StartsNoThreads()
    {
        var offenders = new List<string>();
        var exemptionsUsed = new HashSet<string>();
        foreach (var project in CoreProjects)
        {
            foreach (var file in SourceFiles(project))
            {
                var relative = Path.GetRelativePath(TestPaths.RepoRoot, file).Replace('\\', '/');
                var exemption = CoreExemptions.Keys.FirstOrDefault(e => e.EndsWith('/') ? relative.StartsWith(e, StringComparison.Ordinal) : relative == e);
                var lines = CodeOnly(File.ReadAllText(file)).Split('\n');
                for (int i = 0; i < lines.Length; i++)
                {
                    foreach (var (what, pattern) in ForbiddenInTheCore)
                    {
                        if (!pattern.IsMatch(lines[i]))
                        {
                            continue;
                        }

                        if (exemption is null)
                        {
                            offenders.Add($"{relative}:{i + 1}: {what}: {lines[i].Trim()}");
                        }
                        else
                        {
                            exemptionsUsed.Add(exemption);
                        }
                    }
                }
            }
        }

        Assert.True(offenders.Count == 0, $"the core must leave files, the console and threads to its hosts:\n{string.Join('\n', offenders)}");
        var stale = CoreExemptions.Keys.Except(exemptionsUsed).ToArray();
        Assert.True(stale.Length == 0, $"exemptions that no longer match any offence (delete them): {string.Join(", ", stale)}");
    }

    [Fact]
    public void CoreScan_IgnoresCommentsAndStrings_ButSeesCode()
    {
        var lines = CodeOnly("""
            // File.ReadAllText in a comment
            /* new Thread( in a block
               comment */ var x = "Console.WriteLine"; var c = '"'; var y = @"a "" File.Open";
            var z = $"{n} Task.Run"; File.Delete(p);
            """).Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.DoesNotContain(ForbiddenInTheCore, f => f.Pattern.IsMatch(string.Join('\n', lines[..3])));
        Assert.Contains(ForbiddenInTheCore, f => f.Pattern.IsMatch(lines[3]));
        Assert.DoesNotContain("Task.Run", lines[3], StringComparison.Ordinal);
    }

    [Fact]
    public void DomainAndIndicators_EmitNoConsoleFileOrThreadReferences()
    {
        // The source scan can be fooled by aliases; these two have no exemptions, so check what the compiler emitted.
        string[] forbidden = ["System.Console", "System.IO.File", "System.IO.FileStream", "System.IO.FileInfo", "System.IO.Directory",
            "System.IO.DirectoryInfo", "System.IO.StreamReader", "System.IO.StreamWriter", "System.Threading.Thread", "System.Threading.ThreadPool"];
        foreach (var assembly in new[] { Domain, Indicators })
        {
            using var pe = new PEReader(File.OpenRead(assembly.Location));
            var metadata = pe.GetMetadataReader();
            var types = metadata.TypeReferences.Select(h => metadata.GetTypeReference(h))
                .Select(t => $"{metadata.GetString(t.Namespace)}.{metadata.GetString(t.Name)}").ToHashSet();
            Assert.Empty(types.Intersect(forbidden));
            var taskStarts = metadata.MemberReferences.Select(h => metadata.GetMemberReference(h))
                .Where(m => m.Parent.Kind == HandleKind.TypeReference && metadata.GetString(m.Name) is "Run" or "StartNew")
                .Select(m => metadata.GetTypeReference((TypeReferenceHandle)m.Parent))
                .Where(t => metadata.GetString(t.Namespace) == "System.Threading.Tasks");
            Assert.Empty(taskStarts);
        }
    }

    [Fact]
    public void EveryBuiltInStrategy_CanBeSnapshotted_SoItsRunsCanResume()
    {
        using var tmp = new TempDir();
        foreach (var d in StrategyCatalog.All)
        {
            var (descriptor, parameters, _, instrument) = Keel.Tests.Strategies.NoLookAheadTests.Case(d.Name, tmp);
            var host = descriptor.Create(new StrategyContext(StrategyParameters.Parse(d.Name, parameters), [instrument], Quantity.From(1)));
            Assert.True(host.CanSnapshot, $"strategy {d.Name} has no state codec");
        }
    }

    [Fact]
    public void PublicClasses_AreSealedAbstractOrStatic()
    {
        var offenders = new[] { Domain, Indicators, Engine, Data, Strategies }.SelectMany(a => a.GetExportedTypes())
            .Where(t => t.IsClass && !t.IsSealed && !t.IsAbstract && !typeof(Delegate).IsAssignableFrom(t))
            .Select(t => t.FullName).ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void TheCore_NeverReadsTheWallClock()
    {
        var forbidden = new Regex(@"DateTime(Offset)?\.(Utc)?Now|Environment\.TickCount|TimeProvider\.System|Stopwatch\.|new Random\(|Random\.Shared", RegexOptions.Compiled);
        var offenders = new List<string>();
        // Data is not core (it reads files), but it came out of Engine and reads no clock either.
        foreach (var project in CoreProjects.Append("Keel.Data"))
        {
            foreach (var file in SourceFiles(project))
            {
                int line = 0;
                foreach (var text in File.ReadLines(file))
                {
                    line++;
                    if (forbidden.IsMatch(text))
                    {
                        offenders.Add($"{Path.GetRelativePath(TestPaths.RepoRoot, file)}:{line}: {text.Trim()}");
                    }
                }
            }
        }

        Assert.Empty(offenders);
    }

    [Fact]
    public void Strategies_HoldNoMutableState()
    {
        var strategyTypes = Strategies.GetTypes().Where(t => t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IStrategy<>))).ToList();
        Assert.NotEmpty(strategyTypes);
        foreach (var t in strategyTypes)
        {
            var mutable = t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Where(f => !f.IsInitOnly).Select(f => f.Name).ToList();
            Assert.True(mutable.Count == 0, $"{t.Name} has mutable fields {string.Join(", ", mutable)}; strategy state belongs in TState");
        }
    }

    [Fact]
    public void StoredEnums_NeverUseZero()
    {
        var offenders = new[] { Domain, Indicators, Engine, Data, Strategies }.SelectMany(a => a.GetExportedTypes()).Where(t => t.IsEnum)
            .Where(t => Enum.GetValues(t).Cast<object>().Any(v => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture) == 0))
            .Select(t => t.FullName).ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void DomainValues_HaveNoBinaryFloatingPointState()
    {
        var offenders = Domain.GetExportedTypes().Where(t => t.IsValueType && !t.IsEnum)
            .SelectMany(t => t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Select(f => (t, f)))
            .Where(x => x.f.FieldType == typeof(double) || x.f.FieldType == typeof(float))
            .Select(x => $"{x.t.Name}.{x.f.Name}").ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void CoreMoneyTypes_AvoidInt128_SoReadyToRunCanPrecompileThem()
    {
        foreach (var t in new[] { typeof(Money), typeof(Price), typeof(Quantity), typeof(Keel.Domain.Portfolio.Portfolio), typeof(Keel.Domain.Portfolio.Position) })
        {
            var fields = t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic);
            Assert.DoesNotContain(fields, f => f.FieldType == typeof(Int128) || f.FieldType == typeof(UInt128));
        }
    }

    [Theory]
    [MemberData(nameof(Projects))]
    public void OnlyTheCli_WritesToTheConsole(string project)
    {
        // Libraries log through ILogger (docs/logging.md); only the host renders for people.
        if (project == "Keel.Cli")
        {
            return;
        }

        using var pe = new PEReader(File.OpenRead(AssemblyOf(project).Location));
        var metadata = pe.GetMetadataReader();
        var console = metadata.TypeReferences.Select(h => metadata.GetTypeReference(h))
            .Where(t => metadata.GetString(t.Namespace) == "System" && metadata.GetString(t.Name) == "Console");
        Assert.Empty(console);
    }

    /// <summary>Each project's block of event ids (docs/logging.md).</summary>
    private static readonly Dictionary<string, (int From, int To)> EventIdRanges = new()
    {
        ["Keel.Runtime"] = (1000, 1999),
        ["Keel.Venues"] = (2000, 2999),
        ["Keel.Sandbox"] = (3000, 3999),
        ["Keel.Storage"] = (4000, 4999),
        ["Keel.Cli"] = (5000, 5999),
        ["Keel.Pipeline"] = (6000, 6999),
        ["Keel.Server"] = (7000, 7999),
    };

    [Fact]
    public void EveryLogEvent_HasAnIdOfItsOwn_InItsProjectsRange_ListedInTheDocs()
    {
        var events = LogEvents().ToList();
        Assert.True(events.Count >= 20, $"only {events.Count} [LoggerMessage] methods found");
        Assert.Empty(DuplicateEventIds(events));
        foreach (var (project, method, id) in events)
        {
            Assert.True(EventIdRanges.TryGetValue(project, out var range), $"{project} logs ({method}) but has no event id range");
            Assert.True(id >= range.From && id <= range.To, $"{method} has event id {id}, outside {project}'s {range.From}–{range.To}");
        }

        var docs = File.ReadAllText(Path.Combine(TestPaths.RepoRoot, "docs", "logging.md"));
        var missing = events.Where(e => !docs.Contains($"| {e.Id} |", StringComparison.Ordinal)).Select(e => $"{e.Id} ({e.Method})").ToList();
        Assert.True(missing.Count == 0, $"docs/logging.md has no row for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void DuplicateEventIds_AreFound()
    {
        var duplicates = DuplicateEventIds([("Keel.Venues", "A", 2000), ("Keel.Venues", "B", 2001), ("Keel.Runtime", "C", 2000)]);
        Assert.Equal(["2000: A, C"], duplicates);
    }

    private static List<string> DuplicateEventIds(IEnumerable<(string Project, string Method, int Id)> events) =>
        [.. events.GroupBy(e => e.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}")];

    /// <summary>Every source-generated log method in the solution, read from the compiled assemblies.</summary>
    private static IEnumerable<(string Project, string Method, int Id)> LogEvents() =>
        from project in AllowedReferences.Keys
        from type in AssemblyOf(project).GetTypes()
        from method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
        let attribute = method.GetCustomAttribute<Microsoft.Extensions.Logging.LoggerMessageAttribute>()
        where attribute is not null
        select (project, $"{type.Name}.{method.Name}", attribute.EventId);

    /// <summary>The built assembly of a source project (the CLI's is named <c>keel</c>, so ask its project file).</summary>
    private static Assembly AssemblyOf(string project)
    {
        var csproj = XDocument.Load(Path.Combine(TestPaths.RepoRoot, "src", project, project + ".csproj"));
        return Assembly.Load(new AssemblyName(csproj.Descendants("AssemblyName").LastOrDefault()?.Value ?? project));
    }

    private static IEnumerable<string> SourceFiles(string project) =>
        Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, "src", project), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    /// <summary>
    /// The source with comments and string and character literals blanked out, newlines kept so line numbers still hold.
    /// Handles regular, verbatim and raw strings; a string literal inside an interpolation hole can confuse it.
    /// </summary>
    private static string CodeOnly(string source)
    {
        var code = new StringBuilder(source);
        void Blank(int from, int to)
        {
            for (int k = from; k < to && k < code.Length; k++)
            {
                if (code[k] != '\n')
                {
                    code[k] = ' ';
                }
            }
        }

        int i = 0;
        while (i < source.Length)
        {
            char c = source[i];
            char next = i + 1 < source.Length ? source[i + 1] : '\0';
            int end;
            if (c == '/' && next == '/')
            {
                end = source.IndexOf('\n', i);
                end = end < 0 ? source.Length : end;
            }
            else if (c == '/' && next == '*')
            {
                end = source.IndexOf("*/", i + 2, StringComparison.Ordinal);
                end = end < 0 ? source.Length : end + 2;
            }
            else if (c == '"' && source.AsSpan(i).StartsWith("\"\"\""))
            {
                int quotes = 0;
                while (i + quotes < source.Length && source[i + quotes] == '"')
                {
                    quotes++;
                }

                end = source.IndexOf(new string('"', quotes), i + quotes, StringComparison.Ordinal);
                end = end < 0 ? source.Length : end + quotes;
            }
            else if (c is '"' or '\'')
            {
                bool verbatim = c == '"' && ((i > 0 && source[i - 1] == '@') || (i > 1 && source[i - 1] == '$' && source[i - 2] == '@'));
                end = i + 1;
                while (end < source.Length && (verbatim || source[end] != '\n'))
                {
                    if (verbatim && source[end] == '"' && end + 1 < source.Length && source[end + 1] == '"')
                    {
                        end += 2;
                    }
                    else if (!verbatim && source[end] == '\\')
                    {
                        end += 2;
                    }
                    else if (source[end] == c)
                    {
                        end++;
                        break;
                    }
                    else
                    {
                        end++;
                    }
                }
            }
            else
            {
                i++;
                continue;
            }

            Blank(i, end);
            i = end;
        }

        return code.ToString();
    }
}
