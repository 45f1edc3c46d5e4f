public enum _PlaceholderCouponRankServer {}
