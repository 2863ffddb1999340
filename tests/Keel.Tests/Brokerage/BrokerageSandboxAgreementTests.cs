using System.Net;
using Keel.Engine.Brokerage;
using Keel.Sandbox;
using Keel.Tests.Sandbox;
using Keel.Tests.Sandbox.OandaTrading;
using static Keel.Tests.Brokerage.BrokerageOrders;

namespace Keel.Tests.Brokerage;

/// <summary>
/// The brokerage models and the sandbox are independent implementations of the same venues: the same orders, sent
/// to the sandbox as an adapter would send them, get the same code and message from both, and what one accepts the
/// other accepts.
/// </summary>
public class BrokerageSandboxAgreementTests
{
    [Fact]
    public async Task Alpaca_SandboxAndModel_AnswerEveryOrderAlike()
    {
        await using var server = await SandboxServer.StartAsync(SandboxTesting.Options());
        using var http = SandboxTesting.Alpaca(server);
        await Trading.PricesAsync(http, "AAPL", "100");
        int compared = 0;
        foreach (var c in BrokerageCases.Alpaca.Where(c => c.Sandbox))
        {
            var model = c.Run(new AlpacaBrokerageModel(c.ExtendedHours));
            string body = c.Order is not null ? AlpacaBody(c.Order, c.ExtendedHours) : AlpacaBody(c.List!, c.ExtendedHours);
            var (status, reply) = await Trading.PostAsync(http, "/v2/orders", body);
            if (model is null)
            {
                Assert.True(status == 200, $"{c.Name}: the model accepts it, the sandbox answered {status} {reply}");
            }
            else
            {
                Assert.True(status == 422, $"{c.Name}: the model rejects it ({model.Message}), the sandbox answered {status} {reply}");
                Assert.Equal((c.Name, model.Code, model.Message), (c.Name, reply.GetProperty("code").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), reply.GetProperty("message").GetString()));
            }

            compared++;
        }

        Assert.True(compared >= 30, $"only {compared} cases were compared");
    }

    [Fact]
    public async Task Oanda_SandboxAndModel_AnswerEveryOrderAlike()
    {
        await using var client = await OandaTradingClient.StartAsync();
        await client.PricesAsync("1.10000");
        int compared = 0;
        foreach (var c in BrokerageCases.Oanda.Where(c => c.Sandbox))
        {
            var model = c.Run(new OandaBrokerageModel());
            string body = c.Order is not null
                ? OandaBody(c.Order)
                : OandaBody(c.List!.Orders[0], c.List.Orders.FirstOrDefault(o => o.Type == Keel.Domain.Orders.OrderType.Limit && o.ParentId is not null), c.List.Orders.FirstOrDefault(o => o.Type == Keel.Domain.Orders.OrderType.Stop && o.ParentId is not null));
            var reply = await client.OrderAsync(body);
            if (model is null)
            {
                Assert.True(reply.Status == HttpStatusCode.Created, $"{c.Name}: the model accepts it, the sandbox answered {reply.Status} {reply.Body}");
            }
            else
            {
                Assert.True(reply.Status == HttpStatusCode.BadRequest, $"{c.Name}: the model rejects it ({model.Code}), the sandbox answered {reply.Status} {reply.Body}");
                Assert.Equal((c.Name, model.Code, model.Message), (c.Name, reply.S("errorCode"), reply.S("errorMessage")));
                Assert.Equal(model.Code, reply.S("orderRejectTransaction", "rejectReason"));
            }

            compared++;
        }

        Assert.True(compared >= 15, $"only {compared} cases were compared");
    }
}
