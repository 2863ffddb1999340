using System.Reflection;
using System.Text.RegularExpressions;
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

    [Fact]
    public void Dependencies_PointOneWay_AndTheCoreDoesNoIoLibraries()
    {
        static string[] Refs(Assembly a) => a.GetReferencedAssemblies().Select(r => r.Name!).Where(n => !n.StartsWith("System", StringComparison.Ordinal) && n != "netstandard").ToArray();
        Assert.Empty(Refs(Domain));
        Assert.Equal(["Keel.Domain"], Refs(Engine));
        Assert.Equal(["Keel.Domain", "Keel.Engine", "Keel.Indicators"], Refs(Strategies).Order());
        foreach (var a in new[] { Domain, Engine, Strategies })
        {
            var refs = a.GetReferencedAssemblies().Select(r => r.Name!).ToArray();
            Assert.DoesNotContain(refs, n => n.Contains("Sqlite", StringComparison.Ordinal) || n.Contains("Npgsql", StringComparison.Ordinal)
                || n.Contains("AspNetCore", StringComparison.Ordinal) || n == "System.Net.Http" || n == "System.Console");
        }
    }

    [Fact]
    public void Storage_DependsOnTheCoreOnly_NeverOnStrategiesOrTheCli()
    {
        var refs = typeof(Keel.Storage.KeelStore).Assembly.GetReferencedAssemblies().Select(r => r.Name!).Where(n => n.StartsWith("Keel", StringComparison.Ordinal)).Order().ToArray();
        Assert.Equal(["Keel.Domain", "Keel.Engine"], refs);
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
        var offenders = new[] { Domain, Engine, Strategies }.SelectMany(a => a.GetExportedTypes())
            .Where(t => t.IsClass && !t.IsSealed && !t.IsAbstract && !typeof(Delegate).IsAssignableFrom(t))
            .Select(t => t.FullName).ToList();
        Assert.Empty(offenders);
    }

    [Fact]
    public void TheCore_NeverReadsTheWallClock()
    {
        var forbidden = new Regex(@"DateTime(Offset)?\.(Utc)?Now|Environment\.TickCount|TimeProvider\.System|Stopwatch\.|new Random\(|Random\.Shared", RegexOptions.Compiled);
        var offenders = new List<string>();
        foreach (var project in new[] { "Keel.Domain", "Keel.Engine", "Keel.Strategies" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(TestPaths.RepoRoot, "src", project), "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
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
        var offenders = new[] { Domain, Engine, Strategies }.SelectMany(a => a.GetExportedTypes()).Where(t => t.IsEnum)
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
}
