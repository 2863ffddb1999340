using Keel.Domain.Orders;
using Keel.Engine.Brokerage;
using static Keel.Tests.Brokerage.BrokerageOrders;

namespace Keel.Tests.Brokerage;

/// <summary>Each rule of each model with an order that breaks it and one that passes (the cases in <see cref="BrokerageCases"/>).</summary>
public class BrokerageModelTests
{
    public static TheoryData<string> AlpacaCases => BrokerageCases.Names(BrokerageCases.Alpaca);

    public static TheoryData<string> OandaCases => BrokerageCases.Names(BrokerageCases.Oanda);

    [Theory]
    [MemberData(nameof(AlpacaCases))]
    public void Alpaca_Case_AnswersAsAlpaca(string name)
    {
        var c = BrokerageCases.Alpaca.Single(x => x.Name == name);
        AssertAnswer(c, c.Run(new AlpacaBrokerageModel(c.ExtendedHours)));
    }

    [Theory]
    [MemberData(nameof(OandaCases))]
    public void Oanda_Case_AnswersAsOanda(string name)
    {
        var c = BrokerageCases.Oanda.Single(x => x.Name == name);
        AssertAnswer(c, c.Run(new OandaBrokerageModel()));
    }

    [Fact]
    public void AcceptAll_AcceptsWhatTheVenuesRefuse()
    {
        foreach (var c in BrokerageCases.Alpaca.Concat(BrokerageCases.Oanda))
        {
            Assert.Null(c.Run(AcceptAllBrokerageModel.Instance));
        }
    }

    [Fact]
    public void Models_OnTheAcceptPath_AllocateNothing()
    {
        var alpaca = new AlpacaBrokerageModel();
        var oanda = new OandaBrokerageModel();
        var order = Limit(OrderSide.Buy, "10", "99.5");
        var bracket = Bracket(OrderSide.Buy, "10", "100", "95", "110");
        var fx = Limit(OrderSide.Buy, "1000", "1.09", instrument: EurUsd);
        var fxBracket = Bracket(OrderSide.Buy, "1000", "1.09", "1.08", "1.1", instrument: EurUsd);
        var equity = Context(Aapl);
        var forex = Context(EurUsd, "1.1");
        for (int warm = 0; warm < 2; warm++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                Assert.Null(alpaca.Validate(order, equity));
                Assert.Null(alpaca.ValidateList(bracket, equity));
                Assert.Null(oanda.Validate(fx, forex));
                Assert.Null(oanda.ValidateList(fxBracket, forex));
            }

            if (warm == 1)
            {
                Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
            }
        }
    }

    [Theory]
    [InlineData("none", "none")]
    [InlineData("ALPACA", "alpaca")]
    [InlineData("oanda", "oanda")]
    public void Create_KnownName_GivesThatModel(string name, string expected) => Assert.Equal(expected, BrokerageModels.Create(name)!.Name);

    [Fact]
    public void Create_UnknownName_GivesNull() => Assert.Null(BrokerageModels.Create("ibkr"));

    [Theory]
    [InlineData("1", false)]
    [InlineData("1.01", false)]
    [InlineData("1.015", true)]
    [InlineData("0.9999", false)]
    [InlineData("0.99995", true)]
    public void AlpacaSubPenny_IsWholeCentsFromOneDollar_FourDecimalsBelow(string price, bool subPenny) =>
        Assert.Equal(subPenny, AlpacaBrokerageModel.IsSubPenny(Keel.Domain.Price.Parse(price)));

    private static void AssertAnswer(BrokerageCase c, BrokerageRejection? answer)
    {
        Assert.Equal(c.Code, answer?.Code);
        Assert.Equal(c.Message, answer?.Message);
    }
}
