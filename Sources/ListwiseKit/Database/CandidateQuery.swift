// The columns and joins of an export's candidates, the same on both stores (each adds its own
// WHERE and order): a score run's homes with their prospects, one row a prospect.
enum CandidateQuery {
    static let selectFrom = """
        SELECT s.property_id, s.probability, s.on_market, s.reason1, s.reason2, s.reason3,
               p.address, p.city, p.state, p.zip, p.zip4,
               c.prospect_id, c.first_name, c.last_name, c.mailing_address, c.mailing_city, c.mailing_state,
               c.mailing_zip, c.mailing_zip4, c.email, c.phone, c.do_not_mail, c.do_not_email, c.do_not_call, s.rank, s.tier
        FROM scores s
        JOIN properties p ON p.property_id = s.property_id
        LEFT JOIN prospects c ON c.property_id = s.property_id
        """
}
