import base64
import binascii

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..graph import errors
from ..graph.credentials import load_certificate
from ..messages import graph_error_message


class BookingsCertificateUpload(models.TransientModel):
    """An administrator uploads the certificate a business signs in with: a PEM file holding the certificate and its
    private key, or a PKCS#12 (.pfx) file with its password. The key is kept where only administrators read it and
    never shown again; the business shows the certificate's subject, thumbprint and expiry."""

    _name = "bookings.certificate.upload"
    _description = "Upload a Bookings Certificate"

    business_id = fields.Many2one("bookings.business", required=True, ondelete="cascade")
    certificate_file = fields.Binary(string="Certificate file", required=True, attachment=False)
    filename = fields.Char()
    password = fields.Char(help="The password of a PKCS#12 (.pfx) file or of an encrypted private key.")

    @api.multi
    def action_upload(self):
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only administrators can upload the certificate of a Bookings business."))
        try:
            certificate = load_certificate(base64.b64decode(self.certificate_file or b""), self.password or None)
        except binascii.Error as error:
            raise UserError(str(error))
        except errors.CertificateUnreadable as error:
            raise UserError(graph_error_message(self.env, error))
        self.business_id._set_certificate(certificate)
        self.unlink()  # the file and its password: the key is kept on the business only
        return {"type": "ir.actions.act_window_close"}
