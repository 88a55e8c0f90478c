"""Numbers: the catalog of countries and services, rentals and their failed-SMS refunds, and the SMS providers."""
