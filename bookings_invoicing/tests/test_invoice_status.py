from .common import CLIENT_ID, MAILBOX, TENANT, BookingsCase, hours_ago


class TestInvoiceStatus(BookingsCase):
    """The invoice status of each booking written back to Bookings through Graph beta, where a business turns it
    on."""

    def setUp(self):
        super(TestInvoiceStatus, self).setUp()
        self.add_salon(price=40.0, minutes=60)  # a 20% tax on the product: 48.00 with taxes
        self.business.write_invoice_status = True
        self.peer.clear_requests()

    def grant(self):
        self.store.tenants[TENANT][CLIENT_ID]["permissions"].add("BookingsAppointment.ReadWrite.All")

    def beta_writes(self):
        return [path for method, path in self.peer.requests_to("/beta/") if method == "PATCH"]

    def in_bookings(self, appointment):
        item = next(i for i in self.store.items(MAILBOX, "appointments") if i["id"] == appointment["id"])
        return tuple(item.get(name) for name in ("invoiceStatus", "invoiceId", "invoiceAmount"))

    def test_each_change_of_a_bookings_invoice_is_written_once(self):
        self.grant()
        booked = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        invoice = self.rows(booked).sudo(self.user)._create_invoices()[0].sudo()
        self.run_jobs()  # after the invoicing, in the background
        self.assertEqual(self.in_bookings(booked), ("draft", "draft-%d" % invoice.id, 48.0))
        self.sync()
        self.assertEqual(len(self.beta_writes()), 1, "nothing changed: nothing written again")

        invoice.action_invoice_open()
        run = self.sync()
        self.assertEqual(self.in_bookings(booked), ("open", invoice.number, 48.0))
        self.assertEqual((run.invoice_status_written, len(self.beta_writes())), (1, 2))

        # the price changes in Bookings, the accountant credits the line: the booking's invoice is the credit note
        self.store.update(MAILBOX, "appointments", booked["id"], price=30.0)
        self.sync()
        credit_note = self.rows(booked).sudo(self.user)._settle(reason="new price")
        self.run_jobs()
        self.assertEqual(self.in_bookings(booked), ("corrective", "draft-%d" % credit_note.id, 48.0))

    def test_a_booking_whose_draft_is_deleted_is_told_its_invoice_is_cancelled(self):
        self.grant()
        booked = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        invoice = self.rows(booked).sudo(self.user)._create_invoices()[0].sudo()
        self.run_jobs()
        invoice.unlink()
        self.sync()
        self.assertEqual(self.in_bookings(booked), ("canceled", "draft-%d" % invoice.id, 48.0))
        self.sync()
        self.assertEqual(len(self.beta_writes()), 2)

    def test_a_refusal_is_a_warning_and_invoicing_goes_on(self):
        # the application lacks BookingsAppointment.ReadWrite.All: Graph refuses the write
        booked = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        invoices, skipped = self.rows(booked).sudo(self.user)._create_invoices()
        self.run_jobs()
        self.assertEqual((len(invoices), skipped, self.rows(booked).invoice_status), (1, {}, "invoiced"))
        self.assertEqual(self.in_bookings(booked), (None, None, None))
        self.assertFalse(self.rows(booked).bookings_invoice_written, "to be written once Graph accepts it")
        self.assertIn("BookingsAppointment.ReadWrite.All", self.business.message_ids[0].body)
        run = self.sync()
        self.assertEqual((run.state, run.appointments_updated, run.invoice_status_written), ("done", 0, 0))
        self.assertIn("BookingsAppointment.ReadWrite.All", run.message)
        self.grant()
        self.sync()
        self.assertEqual(self.in_bookings(booked)[0], "draft")

    def test_nothing_is_written_unless_the_business_turns_it_on(self):
        self.grant()
        self.business.write_invoice_status = False
        booked = self.add_appointment(self.cut, [self.ann], hours_ago(5))
        self.sync()
        self.rows(booked).sudo(self.user)._create_invoices()
        self.run_jobs()
        self.sync()
        self.assertEqual((self.beta_writes(), self.in_bookings(booked)), ([], (None, None, None)))
