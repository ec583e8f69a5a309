"""The billing domain: plans and subscriptions (Stripe), usage metering, overage, invoices, webhooks."""
