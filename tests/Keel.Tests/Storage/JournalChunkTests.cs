using Keel.Domain;
using Keel.Storage;

namespace Keel.Tests.Storage;

/// <summary>The SQLite journal's chunk format: values round-trip exactly, packed or not, and damage is named.</summary>
public sealed class JournalChunkTests
{
    private static readonly long[] Integers = [0, 1, -1, 63, -64, 64, 127, 128, 300, -300, int.MaxValue, long.MaxValue, long.MinValue, 1_577_843_400_000_000_000];

    [Fact]
    public void Values_RoundTrip_Exactly_PackedAndNot()
    {
        var w = new JournalChunks.Writer();
        for (int rows = 0; rows < 2; rows++)
        {
            w.Start();
            for (int repeat = 0; repeat < (rows == 0 ? 1 : 2_000); repeat++)
            {
                WriteRow(w);
            }

            var written = w.Written.ToArray();
            var packed = w.Packed().ToArray();
            Assert.Equal(JournalChunks.Format, written[0]);
            if (rows == 1)
            {
                // Two thousand equal rows compress to a fraction.
                Assert.Equal(JournalChunks.Compressed, packed[0]);
                Assert.True(packed.Length * 10 < written.Length, $"{packed.Length} of {written.Length} bytes");
            }

            foreach (var body in new[] { written, packed })
            {
                var r = new JournalChunks.Reader(body, "test.db");
                int count = 0;
                while (!r.End)
                {
                    ReadRow(ref r);
                    count++;
                }

                Assert.Equal(rows == 0 ? 1 : 2_000, count);
            }
        }
    }

    /// <summary>
    /// Texts of every length around the one-byte length's limit (127 bytes; 42 characters of up to three bytes each),
    /// in ASCII, two- and three-byte characters and surrogate pairs: exactly the format's bytes (tag, varint length,
    /// UTF-8), and read back equal.
    /// </summary>
    [Fact]
    public void Texts_OfEveryLength_AreTagLengthAndUtf8()
    {
        foreach (string unit in new[] { "a", "é", "€", "😀" })
        {
            for (int count = 0; count <= 140; count++)
            {
                string text = string.Concat(Enumerable.Repeat(unit, count));
                byte[] utf8 = System.Text.Encoding.UTF8.GetBytes(text);
                var expected = new List<byte> { JournalChunks.Format, 2 };
                for (ulong v = (ulong)utf8.Length; ; v >>= 7)
                {
                    expected.Add((byte)(v < 0x80 ? v : (v & 0x7F) | 0x80));
                    if (v < 0x80)
                    {
                        break;
                    }
                }

                expected.AddRange(utf8);
                var w = new JournalChunks.Writer();
                w.Start();
                w.Write(text);
                Assert.Equal(expected, w.Written.ToArray());
                w.Start();
                w.WriteUtf8(utf8);
                Assert.Equal(expected, w.Written.ToArray());
                var r = new JournalChunks.Reader(w.Written, "test.db");
                Assert.Equal(text, r.ReadString());
                Assert.True(r.End);
            }
        }
    }

    /// <summary>Prices, quantities and money of every size written as their text, with a one-byte length.</summary>
    [Fact]
    public void Amounts_AreTheirText()
    {
        var w = new JournalChunks.Writer();
        foreach (long raw in Integers)
        {
            w.Start();
            w.Write(Price.FromRaw(raw));
            w.Write(Quantity.FromRaw(raw));
            w.Write(Money.FromRaw((Int128)raw * raw));
            var r = new JournalChunks.Reader(w.Written, "test.db");
            Assert.Equal(Price.FromRaw(raw).ToString(), r.ReadString());
            Assert.Equal(Quantity.FromRaw(raw).ToString(), r.ReadString());
            Assert.Equal(Money.FromRaw((Int128)raw * raw).ToString(), r.ReadString());
            Assert.True(r.End);
        }
    }

    [Fact]
    public void A_ChunkThatCompressesNoSmaller_IsStoredAsWritten()
    {
        var w = new JournalChunks.Writer();
        w.Start();
        w.Write(5L);
        Assert.Equal(w.Written.ToArray(), w.Packed().ToArray());
        var r = new JournalChunks.Reader(w.Packed(), "test.db");
        Assert.Equal(5L, r.ReadLong());
        Assert.True(r.End);
    }

    [Fact]
    public void A_DamagedOrUnknownChunk_IsAClearStorageError()
    {
        var w = new JournalChunks.Writer();
        w.Start();
        for (int i = 0; i < 500; i++)
        {
            WriteRow(w);
        }

        var packed = w.Packed().ToArray();
        Assert.Equal(JournalChunks.Compressed, packed[0]);
        var cut = packed[..(packed.Length / 2)];
        var ex = Assert.Throws<StorageException>(() => new JournalChunks.Reader(cut, "keel.db"));
        Assert.Contains("keel.db", ex.Message, StringComparison.Ordinal);
        Assert.Contains("damaged", ex.Message, StringComparison.Ordinal);

        // Rows cut short (as written, not packed): every read names the damage instead of running off the end.
        var written = w.Written.ToArray();
        for (int length = 2; length < 120; length += 7)
        {
            var shortBody = written[..length];
            var damage = Assert.Throws<StorageException>((Action)(() =>
            {
                var r = new JournalChunks.Reader(shortBody, "keel.db");
                while (true)
                {
                    ReadRow(ref r);
                }
            }));
            Assert.Contains("keel.db: a journal chunk is damaged", damage.Message, StringComparison.Ordinal);
        }

        var future = Assert.Throws<StorageException>(() => new JournalChunks.Reader(new byte[] { 9, 1, 2 }, "keel.db"));
        Assert.Contains("format 9", future.Message, StringComparison.Ordinal);
        Assert.Contains("newer Keel", future.Message, StringComparison.Ordinal);
    }

    private static void WriteRow(JournalChunks.Writer w)
    {
        foreach (long i in Integers)
        {
            w.Write(i);
        }

        w.Write((long?)null);
        w.Write(string.Empty);
        w.Write("ünïcødé ✓ 𝄞");
        w.Write(new string('x', 200)); // a length that takes two varint bytes
        w.Write((string?)null);
        w.Write(Price.From(40.125m));
        w.Write((Price?)null);
        w.Write(Quantity.From(0.5m));
        w.Write(Money.From(-3143.65m));
        w.Write(0.0105);
        w.Write(double.NaN);
        w.WriteUtf8("{\"order\":\"O-1\"}"u8);
    }

    private static void ReadRow(ref JournalChunks.Reader r)
    {
        foreach (long i in Integers)
        {
            Assert.Equal(i, r.ReadLong());
        }

        Assert.Null(r.ReadInteger());
        Assert.Equal(string.Empty, r.ReadString());
        Assert.Equal("ünïcødé ✓ 𝄞", r.ReadString());
        Assert.Equal(new string('x', 200), r.ReadString());
        Assert.Null(r.ReadText());
        Assert.Equal("40.125", r.ReadString());
        Assert.Null(r.ReadText());
        Assert.Equal("0.5", r.ReadString());
        Assert.Equal(Money.From(-3143.65m).ToString(), r.ReadString());
        Assert.Equal(0.0105, r.ReadDouble());
        Assert.True(double.IsNaN(r.ReadDouble()));
        Assert.Equal("{\"order\":\"O-1\"}", r.ReadString());
    }
}
